# The controller's clock: microseconds since boot as an unbounded integer, built
# from the HAL's wrapping tick counter with ticks_diff (the loop wakes far more
# often than the 2**30 us wrap), plus the device's wall clock.


class Clock:
    def __init__(self, hal):
        self.hal = hal
        self.tick = hal.ticks_us()  # tick at which `now` was read
        self.now = 0
        self.rtc_at_boot = hal.rtc_s()

    def update(self):
        tick = self.hal.ticks_us()
        self.now += self.hal.ticks_diff(tick, self.tick)
        self.tick = tick
        return self.now

    def tick_at(self, t):
        """HAL tick of controller time t (t within a few minutes of now)."""
        return self.hal.ticks_add(self.tick, t - self.now)

    def rtc(self):
        """Wall-clock seconds now (device clock)."""
        return self.hal.rtc_s()

    def day_base_us(self):
        """Position in the local day (us) that controller time 0 corresponds to."""
        rtc = self.hal.rtc_s()
        return ((rtc % 86400) * 1000000 - self.now) % 86400000000
