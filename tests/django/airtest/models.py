from django.db import models

import airlock
from airtest import effects


class Order(models.Model):
    number = models.CharField(max_length=20)
    status = models.CharField(max_length=20, default="new")

    class Meta:
        app_label = "airtest"

    def process(self, using: str = "default") -> None:
        self.status = "processed"
        self.save(using=using)
        airlock.enqueue(effects.notify_warehouse, self.pk, using)
        airlock.enqueue(effects.send_confirmation, self.pk, using)
