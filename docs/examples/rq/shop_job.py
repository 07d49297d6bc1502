import airlock
import airlock_rq


class ShopJob(airlock_rq.AirlockJob):
    # rq worker --job-class shop_job.ShopJob rq_orders rq_warehouse
    airlock_scope_options = {"executor": "rq", "policy": airlock.LogOnFlush()}
