"""hardware/printer package."""
