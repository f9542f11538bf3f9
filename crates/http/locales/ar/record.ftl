# Tracemark web pages (ar): the record area. Same keys in every language (tests/web.rs).
