"""hardware/camera package."""
