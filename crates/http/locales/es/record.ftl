# Tracemark web pages (es): the record area. Same keys in every language (tests/web.rs).
