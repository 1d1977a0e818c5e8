"""rocketpy.namesrv"""
