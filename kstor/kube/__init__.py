"""Cluster access: connect, list+watch into a Store, write through a small client.

    conn = await connect(kubeconfig, context=...)           # connect.py: one KstorError line on failure
    async with Cluster(conn, namespaces=["prod"]) as cluster:  # cluster.py: one Informer per kind/namespace
        await cluster.wait_synced()
        cluster.store.pods_using_claim("prod", "data")      # store.py: kstor.model's ObjectSource
        cluster.health()["PersistentVolume"]      # syncing|synced|reconnecting|forbidden|unavailable
        await cluster.client.evict("web-0", namespace="prod")  # client.py: typed errors (errors.py)

Never imports Textual; objects stay the JSON dicts the server sent (managedFields dropped).
"""
