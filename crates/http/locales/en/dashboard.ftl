# Tracemark web pages (en): the dashboard area. Same keys in every language (tests/web.rs).
dash-title = Dashboard
dash-overdue-title = Overdue traces
dash-overdue-count = { $count ->
    [0] Nothing is overdue.
    [one] One deadline has passed.
   *[other] { $n } deadlines have passed.
}
dash-overdue-empty = No deadline has passed. Well done.
dash-overdue-what = { $obligation } owed by { $state }
dash-due = due
dash-traces-title = Open traces
dash-traces-count = { $count ->
    [0] No trace is open.
    [one] One trace is open.
   *[other] { $n } traces are open.
}
dash-traces-empty = There is no open trace at the moment. A new request can be started at any time.
dash-trace-state = { $role }, { $status }
dash-traces-all = All traces
dash-hits-title = Hits on items your agency reported lost or stolen
dash-hits-empty = No one has come across an item your agency reported lost or stolen. You will see it here when it happens.
dash-hit-search = found in a search by { $agency }
dash-hit-seizure = recorded as seized or recovered by { $agency }
dash-imports-title = Recent imports
dash-imports-empty = Nothing has been recorded in the registry yet.
dash-import-summary = { $count ->
    [one] One record
   *[other] { $n } records
} (ledger entries { $first } to { $last })
dash-nothing = Welcome. Use the menu above to search the registry.
