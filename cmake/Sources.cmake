# The source files of each module group. Lists, not globs: a new file must
# be put in the group whose rules it follows, and tests/check_purity.py
# checks that every file in src/ is in exactly one list.

# Pure logic: no SDL, curl, MQTT or HTTP server headers, no threads beyond
# the store's lock and the screenshot hand-over's (capture.c). Unit-tested and fuzzed on its own.
set(KT_CORE_SRC
    src/alert.c
    src/api_addr.c
    src/api_token.c
    src/cache.c
    src/clock_format.c
    src/cap.c
    src/cap_select.c
    src/capture.c # a frame handed from the render thread to an asking one (pthreads only)
    src/config.c
    src/config_ref.c
    src/config_doc.c
    src/date.c
    src/entities.c
    src/feed.c
    src/feed_charset.c
    src/feed_json.c
    src/feed_xml.c
    src/filter.c
    src/fleet_conf.c
    src/fleet_proto.c
    src/hashset.c
    src/headline.c
    src/hours.c
    src/log.c
    src/message.c
    src/metrics.c
    src/notify.c
    src/png_encode.c
    src/schedule.c
    src/state.c
    src/scroll.c
    src/store.c
    src/text.c
    src/text_html.c
    src/unicode.c
    src/util.c
    src/xml_repair.c
    src/xml_safe.c)

# The network edge: libcurl and local files, the source refresh, the poller
# threads, and the app that runs them (supervisor, signals, shutdown);
# libmosquitto, the fleet's MQTT client and its thread; the control API's
# server (libmicrohttpd) and its command-line client (libcurl).
set(KT_NET_SRC
    src/transport.c
    src/source.c
    src/poller.c
    src/app.c
    src/fleet.c
    src/remote.c
    src/app_fleet.c
    src/api.c
    src/ctl.c)

# The display edge: SDL2, SDL2_ttf, fontconfig, fribidi; the text worker's
# thread.
set(KT_DISPLAY_SRC
    src/background.c
    src/display.c
    src/display_screenshot.c
    src/font.c
    src/font_bidi.c
    src/font_config.c
    src/font_script.c
    src/logo.c
    src/overlay.c
    src/render.c
    src/render_probe.c
    src/textworker.c)

# The program: command line, signals, wiring.
set(KT_MAIN_SRC src/main.c)
