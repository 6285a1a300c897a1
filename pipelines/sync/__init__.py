"""The sync to Mailjet: audiences built and tested, diffed against their lists into a plan (`plan`)."""
