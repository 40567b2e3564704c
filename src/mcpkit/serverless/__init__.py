"""Serving an mcpkit server from a function platform: `lambda_handler(server)` for AWS Lambda
(docs/deploy.md, "AWS Lambda")."""

from mcpkit.serverless.aws_lambda import LambdaHandler, lambda_context, lambda_event, lambda_handler

__all__ = ["LambdaHandler", "lambda_context", "lambda_event", "lambda_handler"]
