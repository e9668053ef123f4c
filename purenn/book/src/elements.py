"""`from elements import network2` with this folder on sys.path: a package of purenn's modules (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
