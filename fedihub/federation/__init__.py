"""Federation: inbox handling, publishing, delivery, retries and actor resolution."""
