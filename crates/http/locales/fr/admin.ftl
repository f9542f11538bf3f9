# Tracemark web pages (fr): the admin area. Same keys in every language (tests/web.rs).
