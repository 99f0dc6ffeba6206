"""Small things every part shares: the Shanghai clock, process exit codes, reading the
data files staff edit, and the packaged resources.

May import nothing from the rest of kiosk, and neither Qt nor hardware libraries, so that any
layer can use it.
"""
