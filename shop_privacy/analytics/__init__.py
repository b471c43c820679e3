"""Web analytics (P16): only with the customer's analytics consent, only through `disclose`."""
