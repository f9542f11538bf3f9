# Tracemark web pages (en): the record area. Same keys in every language (tests/web.rs).
