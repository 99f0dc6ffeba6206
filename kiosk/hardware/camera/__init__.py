"""The camera: frame sources (OpenCV on a real device, and emulated ones that play images,
video or generated codes), the QR decoder, and QR images for the emulated camera."""
