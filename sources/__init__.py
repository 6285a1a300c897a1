"""dlt sources of mailjet-elt."""
