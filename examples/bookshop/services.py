"""Catalogue jobs run by the shop's back office."""

from django.db import connection
from django.db.models import Count

from .models import Author, Book


def export_catalogue() -> list[str]:
    lines = []
    for book in Book.objects.order_by("title"):
        lines.append(f"{book.title};{book.author.name};{book.published.year}")
    return lines


def export_catalogue_fast() -> list[str]:
    books = Book.objects.select_related("author").order_by("title")
    return [f"{b.title};{b.author.name};{b.published.year}" for b in books]


def scan_barcodes(isbns: list[str]) -> list[Book]:
    found = []
    for isbn in isbns:
        book = Book.objects.filter(isbn=isbn).first()
        if book is not None:
            found.append(book)
    return found


def books_per_author() -> dict[str, int]:
    return dict(Author.objects.annotate(n=Count("books")).values_list("name", "n"))


def search_titles(term: str) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, title FROM bookshop_book WHERE title LIKE '%{term}%'")
        return cursor.fetchall()


def search_titles_safe(term: str) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, title FROM bookshop_book WHERE title LIKE %s", [f"%{term}%"])
        return cursor.fetchall()
