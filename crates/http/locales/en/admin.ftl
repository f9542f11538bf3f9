# Tracemark web pages (en): the admin area. Same keys in every language (tests/web.rs).
