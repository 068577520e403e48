from django.db import models


class Publisher(models.Model):
    name = models.CharField(max_length=100)


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField("Tag", related_name="books")

    @property
    def label(self) -> str:
        return self.title


class Tag(models.Model):
    slug = models.SlugField()


class Loan(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, db_index=False)
    member = models.ForeignKey(Author, on_delete=models.CASCADE, db_index=False)
    shelf = models.ForeignKey(Publisher, on_delete=models.CASCADE)

    class Meta:
        indexes = [models.Index(fields=["member", "book"])]
