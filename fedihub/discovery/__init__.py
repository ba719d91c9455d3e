"""Finding coalitions: look one up by handle or link, or import a list of them from a CSV file."""
