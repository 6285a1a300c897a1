"""dlt destinations of mailjet-elt."""
