"""Controllers: one per resident flow, wiring services to screens.

`context.py` holds what every controller shares (the window, the services, the session);
`take_number.py` the scan → category → ticket flow; `bundle.py` 一件事; `lookup.py` 办件查询
and 预约签到; `services.py` 好差评 and 帮办; `maintenance.py` the technician's screen;
`language.py` and `elder.py` the two switches on Home.
"""
