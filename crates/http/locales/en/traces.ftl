# Tracemark web pages (en): the traces area. Same keys in every language (tests/web.rs).
