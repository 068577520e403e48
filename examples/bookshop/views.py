from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse

from .models import Author, Book


def book_list(request: HttpRequest) -> JsonResponse:
    books = Book.objects.select_related("author").all()
    return JsonResponse({"results": [{"title": b.title, "author": b.author.name} for b in books]})


def author_list(request: HttpRequest) -> JsonResponse:
    page = Paginator(Author.objects.order_by("name"), 50).get_page(request.GET.get("page"))
    return JsonResponse({"results": [a.name for a in page.object_list]})
