"""The hall's rules in pure Python: no database, no web framework, no clock of their own.

`config` reads the rules file (config/hall.yaml: each center's categories, counters, hours
and fairness settings), `calendar` the holiday file (config/hall-calendar.yaml: 法定节假日
and 调休), `hours` says when a category is open, `fairness` which waiting ticket a counter
calls next and how many are ahead of a ticket, `waits` how long a resident will wait. Every
function takes the time it reasons about (`now`, `at`) as an argument, in Shanghai time, so
the store and the tests decide what "now" is.
"""
