"""The WeChat Official Account (公众号) channel: pushes in (`push`), the platform's APIs out (`api`),
and the adapter that joins them to the conversation (`channel`)."""
