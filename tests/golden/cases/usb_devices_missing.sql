-- root: packages/empty
SELECT * FROM usb_devices;
