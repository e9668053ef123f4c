"""`import mnist_loader` with this folder on sys.path: purenn.mnist_loader itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
