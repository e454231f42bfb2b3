"""The app's own tables (the Mega-Tutorial's User and Post, cut down) and a few rows to try it with."""

from __future__ import annotations

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(120))
    is_admin: Mapped[bool] = mapped_column(default=False)
    posts: Mapped[list["Post"]] = relationship(back_populates="author", order_by="Post.id")


class Post(db.Model):
    """A post; `timestamp` in UTC (stored without a zone, as every database can)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(140))
    timestamp: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc).replace(tzinfo=None))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author: Mapped[User] = relationship(back_populates="posts")


SEED = {
    ("susan", "susan@example.com", False): ["Hello from Susan!", "Background jobs are fun.",
                                            "Exporting posts with rqledger.", "A fourth post.", "And a fifth."],
    ("john", "john@example.com", False): ["John here.", "Beautiful day in Portland!",
                                          "The Avengers movie was so cool!"],
    ("admin", "admin@example.com", True): ["I see every task on /tasks/."],
}


def seed() -> None:
    """Two users with posts, and an admin; only into an empty users table."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return
    for (username, email, is_admin), bodies in SEED.items():
        db.session.add(User(username=username, email=email, is_admin=is_admin,
                            posts=[Post(body=body) for body in bodies]))
    db.session.commit()
