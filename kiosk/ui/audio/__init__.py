"""What the kiosk says and sounds: spoken prompts for 长辈模式 (through the voice worker)
and short sound cues (a code was read)."""
