-- root: packages/broken
SELECT * FROM usb_devices;
