# Tracemark web pages (es): the admin area. Same keys in every language (tests/web.rs).
