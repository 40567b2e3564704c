"""What a handler asks the client (sampling, elicitation, roots) and how the ask travels."""
