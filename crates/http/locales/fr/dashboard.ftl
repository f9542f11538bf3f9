# Tracemark web pages (fr): the dashboard area. Same keys in every language (tests/web.rs).
