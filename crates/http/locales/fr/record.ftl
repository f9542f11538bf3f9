# Tracemark web pages (fr): the record area. Same keys in every language (tests/web.rs).
