# Tracemark web pages: English (the reference catalogue: fr, es and ar have exactly its keys).

## Layout
skip-to-content = Skip to the main content
nav-label = Main
nav-dashboard = Dashboard
nav-search = Search
nav-record = Register
nav-traces = Traces
nav-admin = Administration
sign-out = Sign out
signed-in-as = Signed in as { $name } ({ $agency })
language-label = Language
language-apply = Change

## Sign-in
sign-in-title = Sign in
sign-in-submit = Sign in
field-account = Account name
field-password = Password
field-totp = Authenticator code
field-totp-hint = The 6-digit code from your authenticator app, if your account has one.
form-errors-title = There is a problem
error-account-required = Enter your account name.
error-password-required = Enter your password.
error-bad-credentials = The account name or the password is not right. Check both and try again.
error-totp-required = Your role needs the 6-digit code from your authenticator app.
error-totp-wrong = This code is not right. Enter the code your authenticator app shows now.
error-totp-replayed = This code has already been used. Wait for the next code and enter it.
error-locked = This account is locked after repeated failed sign-ins. Try again in { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
error-enrolment-required = Your role needs a second factor and your account has none yet. Ask an administrator to enrol one.
error-csrf = This form has expired or did not come from this site. Reload the page and try again.

## Search
search-title = Search the registry
search-label = Marking or serial number
search-hint = Type it as you read it, in any script. Use ? for one unreadable character and * for any run of characters.
search-submit = Search
search-total = { $count ->
    [0] No item matches.
    [one] One match.
   *[other] { $count } matches.
}
search-distance = { $count ->
    [one] one character differs
   *[other] { $count } characters differ
}
col-marking = Marking
col-item = Item
col-description = Make, model, calibre
col-status = Status
match-exact = Exact matches
match-exact-reason = The marking reads exactly as you typed it (ignoring spaces, dashes and letter case).
match-normalized = Same marking across scripts
match-normalized-reason = The same once look-alike letters of other scripts and common misreadings are made equal, for example Cyrillic Р read as Latin P, or O read as 0.
match-wildcard = Matches of the pattern
match-wildcard-reason = The marking fits the pattern: ? stands for one character, * for any run.
match-fuzzy = Close matches
match-fuzzy-reason = The marking differs by one or two characters: a misread, a missing or an extra character.
alert-missing = Warning: { $event }. Contact { $contact }.
alert-contact-agency = the reporting agency, { $agency }
alert-contact-poc = the national point of contact
error-search-query = This search cannot be run. Check the marking: it needs at least one letter or digit.

## Item
item-title = Item
item-identification = Identification
item-kind = Kind
item-type = Type
item-make = Make
item-model = Model
item-calibre = Calibre
item-country = Country of manufacture
item-year = Year of manufacture
item-national-id = National identifier
item-status = Status
item-holder = Current holder
item-markings = Markings
marking-kind = Kind
marking-as-seen = As seen
marking-normalized = Normalized
marking-visual = Search key
marking-component = Component
marking-legibility = Legibility
custody-title = Chain of custody
custody-purpose-label = Purpose of this consultation
custody-purpose-hint = The chain of custody names possessors. State why you need it (for example a case number); it is recorded.
custody-show = Show the chain of custody
custody-empty = No event is recorded for this item.
custody-void = corrected
custody-from = From
custody-to = To
custody-place = Place
custody-status-after = Status after
custody-ledger = Ledger entry { $index }
custody-diversion-reported = Control was lost on { $date } (reported).
custody-diversion-seized = Seized on { $date } without a prior report of loss or theft.
error-purpose-invalid = The purpose must be at most { $max } printable characters.

## Errors
error-title = Something went wrong
error-forbidden = You may not see this. Your role or agency does not give access to it.
error-not-found = There is no such page or item.
error-unavailable = The registry's database does not answer. Try again in a moment.
error-internal = The server failed. Please tell your administrator.
error-bad-request = This request cannot be answered.
error-reference = Reference for your administrator: { $id }
error-home = Go to the start page

## Dates
date-day = { $day } { $month } { $year }
date-month = { $month } { $year }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## Status of an item
status-recorded = recorded
status-in-stock = in stock
status-in-service = in service
status-civilian-held = held by a civilian
status-exported = exported
status-lost = lost
status-stolen = stolen
status-recovered = recovered
status-seized = seized
status-surrendered = surrendered
status-deactivated = deactivated
status-destroyed = destroyed

## Events of the chain of custody
event-manufactured = Manufactured
event-imported = Imported
event-exported = Exported
event-transferred = Transferred
event-assigned = Assigned
event-returned = Returned
event-reported-lost = Reported lost
event-reported-stolen = Reported stolen
event-recovered = Recovered
event-seized = Seized
event-surrendered = Surrendered
event-marked = Marked
event-component-replaced = Component replaced
event-converted = Converted
event-deactivated = Deactivated
event-destroyed = Destroyed
event-corrected = Corrected

## Kinds of marking
mark-serial = serial number
mark-manufacturer = manufacturer
mark-country = country
mark-year = year
mark-model = model
mark-calibre = calibre
mark-import = import marking
mark-proof = proof mark
mark-factory-code = factory code
mark-secondary = secondary marking
mark-state-ownership = state ownership
mark-lot = lot number
mark-headstamp = headstamp
mark-code-2d = 2D code
mark-rfid = RFID tag
mark-covert = covert marking
mark-other = other

## Legibility
legibility-clear = clear
legibility-partial = partly legible
legibility-obliterated = obliterated
legibility-restored = restored
