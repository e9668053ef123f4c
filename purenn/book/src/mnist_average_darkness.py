"""`import mnist_average_darkness` with this folder on sys.path: purenn.mnist_average_darkness itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
