"""Channel-neutral workflow services: intake, routing, the demand lifecycle, the directory."""
