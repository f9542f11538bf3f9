# Tracemark web pages (es): the dashboard area. Same keys in every language (tests/web.rs).
