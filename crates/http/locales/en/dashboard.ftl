# Tracemark web pages (en): the dashboard area. Same keys in every language (tests/web.rs).
