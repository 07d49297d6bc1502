python manage.py airlock_relay                                # relay continuously (--loop), every second
python manage.py airlock_relay --loop --interval 5 --prune 7d  # and delete rows delivered a week ago
python manage.py airlock_relay --once --batch-size 500        # relay what is due now, then exit
python manage.py airlock_relay --stats                        # rows per status, as JSON
python manage.py airlock_relay --once --retry-dead            # after a fix: dead rows get another go
