"""Order endpoints and jobs."""

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload

from .models import Customer, Order


def order_emails(session: Session) -> list[str]:
    stmt = select(Order).where(Order.status == "open")
    return [order.customer.email for order in session.scalars(stmt)]


def order_emails_fast(session: Session) -> list[str]:
    stmt = select(Order).options(joinedload(Order.customer)).where(Order.status == "open")
    return [order.customer.email for order in session.scalars(stmt)]


def import_customers(session: Session, emails: list[str]) -> None:
    for email in emails:
        session.add(Customer(email=email))
        session.commit()


def import_customers_fast(session: Session, emails: list[str]) -> None:
    session.add_all([Customer(email=email) for email in emails])
    session.commit()


def orders_with_status(session: Session, status: str) -> list[int]:
    rows = session.execute(text("SELECT id FROM orders WHERE status = '" + status + "'"))
    return [row.id for row in rows]


def orders_with_status_safe(session: Session, status: str) -> list[int]:
    rows = session.execute(text("SELECT id FROM orders WHERE status = :status"), {"status": status})
    return [row.id for row in rows]


def unshipped(session: Session, limit: int = 50) -> list[Order]:
    stmt = select(Order).where(Order.shipped_at is None).limit(limit)
    return list(session.scalars(stmt))
