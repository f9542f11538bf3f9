# Tracemark web pages (es): the traces area. Same keys in every language (tests/web.rs).
