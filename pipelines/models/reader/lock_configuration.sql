-- `mailjet-elt sql`: the settings above stay as they are; a statement cannot change any setting.
set lock_configuration = true
