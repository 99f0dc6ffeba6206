"""The touchscreen: main window, theme, translations and messages, and below them

- `controllers/`: one controller per resident flow (take a number, 一件事, query, check-in,
  rating and help, maintenance) plus the language and 长辈模式 switches; they call services
  and fill screens;
- `screens/`: passive screens, one per step a resident sees;
- `widgets/`: reusable widgets, one per module;
- `audio/`: spoken prompts and sounds.

Runs on the GUI thread. May import every layer below it (common, domain, config, hardware
types, backend interface, delivery, services); never kiosk.app, kiosk.cli or kiosk.devtools.
"""
