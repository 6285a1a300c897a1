"""mailjet-elt's command line and the flows it runs."""
