# Tracemark web pages (ar): the dashboard area. Same keys in every language (tests/web.rs).
