"""The application: workflow services and the channels that talk to people."""
