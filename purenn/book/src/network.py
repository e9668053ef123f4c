"""`import network` with this folder on sys.path: purenn.network itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
