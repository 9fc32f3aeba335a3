"""One module per page, each with its own thin State calling services."""
