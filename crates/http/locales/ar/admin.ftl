# Tracemark web pages (ar): the admin area. Same keys in every language (tests/web.rs).
